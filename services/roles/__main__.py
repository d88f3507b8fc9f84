from libs.kit.service import main
from services.roles.app import bootstrap

if __name__ == "__main__":
    main(bootstrap)
