from libs.kit.settings import KitSettings


class Settings(KitSettings):
    pass
