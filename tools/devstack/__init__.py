"""The dev stack launcher, `python -m devstack` (`make run`): configuration in `devstack.config`."""
