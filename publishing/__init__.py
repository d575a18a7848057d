"""The yearly public report (公表): one fiscal year's results, from a plain snapshot dict,
as a static site in Japanese and English plus the same rows as CSV and XLSX.

The package imports only the standard library, jinja2 and openpyxl, so the site can be
rebuilt from a stored snapshot without the database, the workflows or the web app.
Nothing happens at import time; `publishing.site.write_site` does the work.
"""
