"""The deployable app: stacks composed from a validated config (see ``stacks.platform``)."""
