"""The emulator, local only: the local stack on moto and the marketplace simulator. Never shipped to Lambda;
never imports oms_tools (the operator's tools and the CLI, which use it for `oms local`)."""
