from libs.kit.service import main
from services.groups.app import bootstrap

if __name__ == "__main__":
    main(bootstrap)
