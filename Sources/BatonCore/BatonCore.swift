/// The BatonCore module.
