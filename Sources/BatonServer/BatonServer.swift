/// The BatonServer module.
