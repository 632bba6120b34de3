"""The admin pages of accounts (/admin/users/, /admin/units/, /admin/tokens/,
/admin/changes/): thin — parse, call one service, render."""
