import asyncio

from services.onboarding.app import bootstrap

if __name__ == "__main__":
    asyncio.run(bootstrap().run_forever())
