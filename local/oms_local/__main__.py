"""`python -m oms_local [OPTIONS]`: the local stack until Ctrl-C (the same as `oms local`)."""

from oms_local.command import local

if __name__ == "__main__":
    local(prog_name="oms local")
