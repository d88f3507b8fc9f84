import asyncio

from services.groups.app import bootstrap

if __name__ == "__main__":
    asyncio.run(bootstrap().run_forever())
