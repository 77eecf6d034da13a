/// The BatonClient module.
