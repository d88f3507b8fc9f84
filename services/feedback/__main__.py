from libs.kit.service import main
from services.feedback.app import bootstrap

if __name__ == "__main__":
    main(bootstrap)
