# Shared by every schedule: the DGFE threshold t (parameters named '*threshold*') gets no weight
# decay. Under the paper's 'learnable' mode its gradient is zero, so decay would be all that moves
# it (SGD with momentum 0.9 and weight decay 1e-4 shrinks it by about 2.5e-6 x lr/0.0025 per step).
# The official code decays it: `--cfg-options optim_wrapper.paramwise_cfg.custom_keys.threshold.decay_mult=1`.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'threshold': dict(decay_mult=0.0)}))
