from libs.kit.service import main
from services.notifications.app import bootstrap

if __name__ == "__main__":
    main(bootstrap)
