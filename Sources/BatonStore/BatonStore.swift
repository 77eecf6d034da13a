/// The BatonStore module.
