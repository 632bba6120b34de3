"""The SOP's values (fare ceiling, service hours, budgets, margins), set in the portal by
administrators, with the server's settings as defaults and every change recorded."""
