from guest_fixtures import *  # noqa: F403
