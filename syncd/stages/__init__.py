"""The loop's stages, one job each: pull, publish, notify, collect, reconcile, confirm."""
