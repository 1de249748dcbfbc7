from yixiang.formats._shared import *  # noqa: F403 (the same formats in every language)
