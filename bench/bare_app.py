"""The bare comparison page for bench/load.py: Flask + Jinja rendering one small template."""
from flask import Flask, render_template_string

app = Flask(__name__)
PAGE = """<!doctype html><html lang="de"><head><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1><ul>{% for i in items %}<li>Eintrag {{ i }}</li>{% endfor %}</ul>
</body></html>"""


@app.get("/")
def index():
    return render_template_string(PAGE, title="Bare Flask", items=range(20))


@app.get("/healthz")
def healthz():
    return "ok"
