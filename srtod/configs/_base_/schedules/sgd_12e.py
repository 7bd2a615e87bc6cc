# Paper Sec. 4.1, VisDrone2019 and AI-TOD (RFLA's settings): SGD lr 0.005, 12 epochs, decay at 8, 11.
_base_ = './sgd_20e.py'
train_cfg = dict(max_epochs=12)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=0.005))
