"""The scanner: sources produce `Fragment`s, the engine turns them into `Finding`s."""
