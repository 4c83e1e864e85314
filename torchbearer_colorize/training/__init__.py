"""The training core: one run = one torchbearer Trial, built by its experiment module, trained or reused from the
run store (:mod:`.runs`); :mod:`.store` what a finished run keeps; :mod:`.cli` the shared options;
:mod:`.devices` the ``--spread-over`` workers."""
