"""Opt-in multi-device training: torchrun/DDP (:mod:`.distributed`) and ``--devices`` workers (:mod:`.devices`)."""
