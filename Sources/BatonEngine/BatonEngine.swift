/// The BatonEngine module.
