#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A wrong setting stops the start with one readable line naming the variable.
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
