"""One date format for the whole interface (issue 14), overriding Django's per-locale formats.

Both languages write dates as ISO (2026-11-27) and times as 24-hour 14:05: most pages already
wrote `date:"Y-m-d"`, reps read the same dates on the phone, and `<input type=date>` only
accepts ISO, so forms must render and read it first. Relative times go through the `ago` filter
(yixiang/web/templatetags/yx.py), amounts through `yuan`.
"""
