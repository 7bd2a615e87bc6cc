# Paper Sec. 4.1, VisDrone2019 and AI-TOD ("all the experiment settings of RFLA"): SGD, 12 epochs,
# lr 0.005 decayed at epochs 8 and 11; momentum, weight decay, batch and warm-up as sgd_20e.
# Departure from the official code, which follows the paper: the official VisDrone / AI-TOD configs
# state this schedule in mmdet 2.x keys (`optimizer`, `lr_config`, `runner`) that mmengine ignores,
# so its runs used its base schedule_1x instead: SGD lr 0.01, 12 epochs, decay at 8 and 11.
_base_ = './sgd_20e.py'
train_cfg = dict(max_epochs=12)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=0.005))
