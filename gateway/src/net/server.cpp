// Placeholder until the Beast server lands.
