"""Jinja2 templates of the session report and the history page (kept in Python so they ship with the
package without package-data). Every number is printed through `field(path)`, which looks the value up in
the report dict by its path and emits <data value=… data-key=path>: the page shows only what the JSON holds,
and tests can check that, number by number."""

STYLE = """
:root { --ink:#1a1a1a; --muted:#4a4a4a; --line:#d0d0d0; --bg:#ffffff; --panel:#f4f6f8; --accent:#0b5cad;
        --warn-bg:#fff4e5; --warn-ink:#5c3200; --ok-bg:#e8f5ee; --ok-ink:#0d4a2b; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; top: 0; }
.skip:focus { left: 0.5rem; background: #fff; padding: 0.25rem 0.5rem; z-index: 10; }
header.top { background: #12324f; color: #fff; padding: 0.6rem 1rem; }
header.top p { margin: 0; font-weight: 600; letter-spacing: 0.02em; }
header.top a { color: #fff; }
main { max-width: 62rem; margin: 0 auto; padding: 0.5rem 1rem 2rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 1rem 0 0.25rem; }
h1 .sub { display: block; font-size: 1rem; font-weight: 400; color: var(--muted); }
h2 { font-size: 1.35rem; margin: 2rem 0 0.5rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
.headline { font-size: 1.2rem; font-weight: 600; background: var(--warn-bg); color: var(--warn-ink);
            border-left: 6px solid #b35900; padding: 0.75rem 1rem; margin: 0.75rem 0; }
.headline.calm { background: var(--ok-bg); color: var(--ok-ink); border-left-color: #1d7a4a; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 0.5rem;
           margin: 0.75rem 0; }
dl.facts div { background: var(--panel); padding: 0.5rem 0.75rem; border-radius: 6px; }
dl.facts dt { font-size: 0.85rem; color: var(--muted); }
dl.facts dd { margin: 0; font-size: 1.15rem; font-weight: 600; }
ol.advice { padding-left: 1.4rem; }
ol.advice li { margin-bottom: 0.75rem; }
.reason { color: var(--muted); margin: 0.2rem 0 0; }
.closing { font-size: 0.95rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: 0.5rem; }
figure { margin: 1rem 0 1.5rem; }
figure img { display: block; width: 100%; height: auto; background: #fff; }
figcaption { font-size: 0.95rem; color: var(--muted); margin-top: 0.3rem; }
figcaption strong { color: var(--ink); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { text-align: left; vertical-align: top; padding: 0.45rem 0.5rem; border-bottom: 1px solid var(--line); }
th { background: var(--panel); }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
.def { color: var(--muted); font-size: 0.88rem; }
article.drill { background: var(--panel); border-radius: 6px; padding: 0.5rem 1rem 0.75rem; margin: 0.75rem 0; }
article.drill h3 { margin-top: 0.5rem; }
.dose { font-weight: 600; }
footer { max-width: 62rem; margin: 0 auto; padding: 1rem; color: var(--muted); font-size: 0.9rem;
         border-top: 1px solid var(--line); }
@media (max-width: 40rem) {
  h1 { font-size: 1.4rem; }
  table.cards thead { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards tr { border: 1px solid var(--line); border-radius: 6px; margin-bottom: 0.75rem; padding: 0.25rem 0; }
  table.cards td { border: none; padding: 0.2rem 0.75rem; text-align: left; white-space: normal; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--ink); }
}
@media print {
  header.top, .skip { display: none; }
  main { max-width: none; padding: 0; }
  figure, article.drill, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  @page { size: A4; margin: 12mm; }
}
"""

REPORT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Tiltguard {{ r.schema }}">
<title>Tiltguard report: {{ r.summary.activity_label }} of {{ r.summary.duration_min|round|int }} min{% if r.session.started_at %}, {{ r.session.started_at }}{% endif %}</title>
<style>{{ style }}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the report</a>
<header class="top"><p>Tiltguard · post-session report</p></header>
<main id="main">
<h1>{{ r.summary.activity_label }} of {{ r.summary.duration_min|round|int }} min
  <span class="sub">{{ r.session.label }}{% if r.session.started_at %} · {{ r.session.started_at }}{% endif %}</span></h1>

<section id="summary" aria-labelledby="h-summary">
<h2 id="h-summary">Summary</h2>
<p class="headline{% if not r.flags %} calm{% endif %}" id="headline">{{ r.summary.headline }}</p>
{% if r.summary.direction_unknown %}<p class="warning" id="direction-unknown"><strong>Direction unknown.</strong> {{ r.summary.direction_unknown }}. The tilt's sign (anterior or posterior), left vs right and the flags and metrics that depend on them are withheld; cadence, contacts, ranges and everything else that does not depend on which way you faced are shown.</p>{% endif %}
{% if r.summary.sides_unknown %}<p class="warning" id="sides-unknown"><strong>Left and right unknown.</strong> {{ r.summary.sides_unknown }}. What names a foot (drop per side, contact-time balance, step-time asymmetry, an excess-drop flag) is withheld; everything else is shown.</p>{% endif %}
{% if r.session.get("restarts") %}<p class="warning" id="restarts"><strong>The pod restarted during this session.</strong> {{ r.session.restarts }}.</p>{% endif %}
{% if r.session.get("log_damage") %}<p class="warning" id="log-damage"><strong>Part of the pod's log was damaged.</strong> {{ r.session.log_damage }}. Every good block was kept; the device and the store keep the raw log.</p>{% endif %}
<dl class="facts">
  <div><dt>Activity</dt><dd>{{ r.summary.activity_label }}</dd></div>
  <div><dt>Duration</dt><dd>{{ field("summary.duration_min") }} min</dd></div>
  <div><dt>Moving</dt><dd>{{ field("summary.moving_min") }} min</dd></div>
  <div><dt>Distance</dt><dd>{% if r.summary.distance_km is not none %}{{ field("summary.distance_km", 2) }} km{% else %}not measured{% endif %}</dd></div>
  <div><dt>Pace</dt><dd>{% if r.summary.pace_min_per_km is not none %}{{ field("summary.pace_min_per_km", 2) }} min/km{% else %}not measured{% endif %}</dd></div>
  {% for key in key_facts %}{% if key in r.metrics %}
  <div><dt>{{ r.metrics[key].label }}</dt><dd>{{ field("metrics." ~ key ~ ".value", sign=key in signed) }} {{ r.metrics[key].unit }}</dd></div>
  {% endif %}{% endfor %}
  {% if r.summary.direction %}<div><dt>Forward</dt><dd id="direction">{% if r.summary.direction_unknown %}unknown{% else %}{{ r.summary.direction.reason }}{% endif %}{% for c in r.summary.direction.cues %}<br><span class="def">{{ c.cue }}: {{ c.detail }} (strength {{ c.strength }}, decisive from {{ c.decisive_from }})</span>{% endfor %}</dd></div>{% endif %}
  {% if r.summary.sides and r.summary.sides.cues %}<div><dt>Left and right</dt><dd id="sides">{% if r.summary.sides_unknown %}unknown{% else %}told apart{% endif %}{% for c in r.summary.sides.cues %}<br><span class="def">{{ c.gait }}, {{ c.cue }}: {% if c.silent %}reads nothing (no gyro or no medio-lateral axis){% else %}{{ c.steps }} steps, {{ (100 * c.agreement)|round|int }} % agree with their side (strength {{ c.strength }}, decisive from {{ c.decisive_from }}){% endif %}</span>{% endfor %}</dd></div>{% endif %}
  {% if r.summary.neutral_from == "stand" %}<div><dt>Standing neutral (absolute)</dt><dd>{{ field("summary.neutral_tilt_abs_deg") }} ± {{ field("summary.neutral_tilt_abs_sd_deg") }}°</dd></div>
  {% else %}<div><dt>Standing neutral</dt><dd id="no-neutral">not measured: no 5-s still stand at the start</dd></div>{% endif %}
</dl>
{% if r.advice %}
<h3>What matters most</h3>
<ol class="advice">
{% for a in r.advice %}  <li><p>{{ a.text }}</p><p class="reason">Why: {{ a.reason }}{% if a.refs %} ({{ a.refs|join("; ") }}){% endif %}</p></li>
{% endfor %}</ol>
{% endif %}
{% for a in r.advice_closing %}<p class="closing">{{ a.text }}</p>{% endfor %}
</section>

<section id="flags" aria-labelledby="h-flags">
<h2 id="h-flags">Flagged intervals</h2>
{% if r.flags %}
<div class="table-wrap"><table class="cards">
<thead><tr><th scope="col">Flag</th><th scope="col" class="num">From (min)</th><th scope="col" class="num">To (min)</th><th scope="col" class="num">Length (min)</th><th scope="col" class="num">Mean</th><th scope="col" class="num">Peak</th></tr></thead>
<tbody>
{% for f in r.flags %}{% set i = loop.index0 %}<tr><td data-label="Flag">{{ f.label }}</td><td class="num" data-label="From (min)">{{ field("flags." ~ i ~ ".start_min") }}</td><td class="num" data-label="To (min)">{{ field("flags." ~ i ~ ".end_min") }}</td><td class="num" data-label="Length (min)">{{ field("flags." ~ i ~ ".duration_min") }}</td><td class="num" data-label="Mean">{{ field("flags." ~ i ~ ".mean") }}{{ unit_of(f.unit) }}</td><td class="num" data-label="Peak">{{ field("flags." ~ i ~ ".peak") }}{{ unit_of(f.unit) }}</td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p>Nothing was flagged in this session.</p>{% endif %}
</section>

<section id="plots" aria-labelledby="h-plots">
<h2 id="h-plots">Plots</h2>
{% for fig in figures %}<figure id="fig-{{ fig.id }}">
<img src="{{ fig.data_uri }}" alt="{{ fig.alt }}" width="{{ fig.width }}" height="{{ fig.height }}">
<figcaption><strong>{{ fig.title }}.</strong> {{ fig.caption }}</figcaption>
</figure>
{% endfor %}
</section>

{% if r.watch is defined and r.watch %}<section id="watch" aria-labelledby="h-watch">
<h2 id="h-watch">Pace, grade and the watch</h2>
<p>Merged with {{ r.watch.file }} ({{ r.watch.sport }}, {{ field("watch.records", 0) }} records): its clock is {{ field("watch.alignment.offset_s", 2, sign=True) }} ± {{ field("watch.alignment.sd_s", 2) }} s from the pod's, found from the {{ r.watch.alignment.signal }}.{% if r.watch.pace_threshold %} <strong id="pace-threshold">Anterior tilt becomes sustained faster than {{ r.watch.pace_threshold }} /km.</strong>{% endif %}</p>
{% if r.watch.grade_bands %}<div class="scroll"><table id="grade-bands"><thead><tr><th scope="col">Grade</th><th scope="col" class="num">Strides</th><th scope="col" class="num">Grade (%)</th><th scope="col" class="num">Tilt (°)</th><th scope="col" class="num">Drop (°)</th><th scope="col" class="num">Cadence</th></tr></thead>
<tbody>{% for k, b in r.watch.grade_bands.items() %}<tr><td data-label="Grade">{{ k }}</td><td class="num" data-label="Strides">{{ field("watch.grade_bands." ~ k ~ ".strides", 0) }}</td><td class="num" data-label="Grade (%)">{{ field("watch.grade_bands." ~ k ~ ".grade_pct", 1, sign=True) }}</td><td class="num" data-label="Tilt (°)">{{ field("watch.grade_bands." ~ k ~ ".tilt_deg", 1, sign=True) }}</td><td class="num" data-label="Drop (°)">{{ field("watch.grade_bands." ~ k ~ ".drop_deg", 1) }}</td><td class="num" data-label="Cadence">{{ field("watch.grade_bands." ~ k ~ ".cadence", 0) }}</td></tr>
{% endfor %}</tbody></table></div>{% endif %}
{% if r.watch.advice %}<ul id="watch-advice">{% for a in r.watch.advice %}<li><p>{{ a.text }}</p><p class="reason">Why: {{ a.reason }}</p></li>{% endfor %}</ul>{% endif %}
{% if r.watch.laps %}<div class="scroll"><table id="laps"><thead><tr><th scope="col">Lap</th><th scope="col" class="num">From (min)</th><th scope="col" class="num">Length (min)</th><th scope="col" class="num">Distance (km)</th><th scope="col" class="num">Pace (/km)</th></tr></thead>
<tbody>{% for l in r.watch.laps %}{% set i = loop.index0 %}<tr><td data-label="Lap">{{ l.lap }}</td><td class="num" data-label="From (min)">{{ field("watch.laps." ~ i ~ ".start_min") }}</td><td class="num" data-label="Length (min)">{{ field("watch.laps." ~ i ~ ".duration_min") }}</td><td class="num" data-label="Distance (km)">{{ field("watch.laps." ~ i ~ ".distance_km", 2) }}</td><td class="num" data-label="Pace (/km)">{{ l.pace or "–" }}</td></tr>
{% endfor %}</tbody></table></div>{% endif %}
</section>
{% endif %}
<section id="metrics" aria-labelledby="h-metrics">
<h2 id="h-metrics">Metrics</h2>
{% if r.summary.neutral_from == "stand" %}<p>Angles are relative to your standing neutral unless marked absolute. "Your usual" is the median of your last sessions of the same activity.</p>
{% else %}<p id="no-neutral-note">This session did not start with a 5-s still stand, so angles are relative to your mean posture in its first minute of movement: drop, rotation, ranges and changes over the session are measured, your tilt compared with standing (and sustained anterior tilt) are not. Stand still for 5 s before you set off next time. "Your usual" is the median of your last sessions of the same activity.</p>{% endif %}
<div class="table-wrap"><table class="cards">
<thead><tr><th scope="col">Metric</th><th scope="col" class="num">This session</th><th scope="col" class="num">Your usual</th><th scope="col">Typical range</th></tr></thead>
<tbody>
{% for key, m in r.metrics.items() %}<tr id="metric-{{ key }}"><td data-label="Metric"><strong>{{ m.label }}</strong><br><span class="def">{{ m.definition }}</span></td>
<td class="num" data-label="This session">{{ field("metrics." ~ key ~ ".value", sign=key in signed) }} {{ m.unit }}</td>
<td class="num" data-label="Your usual">{% if m.history_median is not none %}{{ field("metrics." ~ key ~ ".history_median", sign=key in signed) }} {{ m.unit }} <span class="def">({{ field("metrics." ~ key ~ ".history_sessions", 0) }} session{{ "s" if m.history_sessions != 1 }})</span>{% else %}–{% endif %}</td>
<td data-label="Typical range">{% if m.literature %}{{ m.literature.text }} <span class="def">({{ m.literature.refs|join("; ") }})</span>{% else %}<span class="def">no published range</span>{% endif %}</td></tr>
{% endfor %}</tbody></table></div>
<p class="def">Per-stride values: <a href="{{ r.strides.file }}">{{ r.strides.file }}</a> ({{ field("strides.count", 0) }} strides).{% if r.rides %} Per 10-s ride window: <a href="{{ r.rides.file }}">{{ r.rides.file }}</a> ({{ field("rides.count", 0) }} windows).{% endif %} All numbers of this page: <a href="report.json">report.json</a>.</p>
</section>

<section id="drills" aria-labelledby="h-drills">
<h2 id="h-drills">Drills</h2>
{% if r.drills %}{% for d in r.drills %}<article class="drill" aria-labelledby="drill-{{ loop.index }}">
<h3 id="drill-{{ loop.index }}">{{ d.name }}</h3>
<p class="dose">{{ d.dose }}</p>
<ol>{% for s in d.steps %}<li>{{ s }}</li>{% endfor %}</ol>
<p><strong>Get this right:</strong> {{ d.watch }}</p>
<p class="reason">Why: {{ d.why }}</p>
{% if d.check %}<p class="check">Check it with the pod: <code>{{ d.check.command }}</code>{% if d.check.last %} — {{ d.check.last }}{% endif %}</p>{% endif %}
</article>
{% endfor %}{% else %}<p>No drills suggested by this session.</p>{% endif %}
</section>

<section id="references" aria-labelledby="h-refs">
<h2 id="h-refs">References</h2>
<ul>{% for key, ref in r.references.items() %}<li><strong>{{ key }}</strong>: {{ ref }}</li>{% endfor %}</ul>
<p class="def">Pelvic angles follow Baker 2001 (rotation, obliquity, tilt); tilt &gt; 0 is anterior. Tiltguard measures movement; it does not diagnose.</p>
</section>
</main>
<footer>Generated {{ r.generated_at }} by Tiltguard from {{ r.session.source }}{% if r.session.id is not none %} session {{ r.session.id }}{% endif %}.</footer>
</body>
</html>
"""

HISTORY = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tiltguard history: {{ h.sessions|length }} sessions</title>
<style>{{ style }}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the history</a>
<header class="top"><p>Tiltguard · history</p></header>
<main id="main">
<h1>Your sessions <span class="sub">{{ h.sessions|length }} sessions{% if h.weeks %}, {{ h.weeks|length }} weeks{% endif %}</span></h1>
<section id="trends" aria-labelledby="h-trends">
<h2 id="h-trends">Across weeks</h2>
{% for fig in figures %}<figure id="fig-{{ fig.id }}">
<img src="{{ fig.data_uri }}" alt="{{ fig.alt }}" width="{{ fig.width }}" height="{{ fig.height }}">
<figcaption><strong>{{ fig.title }}.</strong> {{ fig.caption }}</figcaption>
</figure>
{% else %}<p>No analysed sessions yet.</p>{% endfor %}
{% if h.pace_matched is defined and h.pace_matched %}<div class="table-wrap"><table id="pace-matched"><caption>Tilt at the same pace (°), {{ h.pace_matched.months.this }} vs {{ h.pace_matched.months.last }}</caption><thead><tr><th scope="col">Pace (/km)</th><th scope="col" class="num">This month</th><th scope="col" class="num">Last month</th></tr></thead>
<tbody>{% for p, v in h.pace_matched.compare.items() %}<tr><td data-label="Pace">{{ p }}</td><td class="num" data-label="This month">{{ field("pace_matched.compare." ~ p ~ ".this_month", 1, sign=True) }} <span class="def">({{ v.sessions_this }})</span></td><td class="num" data-label="Last month">{{ field("pace_matched.compare." ~ p ~ ".last_month", 1, sign=True) }} <span class="def">({{ v.sessions_last }})</span></td></tr>
{% endfor %}</tbody></table></div>{% endif %}
{% if h.weeks %}
<div class="table-wrap"><table class="cards">
<thead><tr><th scope="col">Week</th><th scope="col" class="num">Sessions</th>{% for key in h.columns %}<th scope="col" class="num">{{ labels[key] }}</th>{% endfor %}</tr></thead>
<tbody>{% for w in h.weeks %}{% set i = loop.index0 %}<tr><td data-label="Week">{{ w.week }}</td><td class="num" data-label="Sessions">{{ field("weeks." ~ i ~ ".sessions", 0) }}</td>{% for key in h.columns %}<td class="num" data-label="{{ labels[key] }}">{{ field("weeks." ~ i ~ "." ~ key) }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
<p class="def">Weekly medians of the per-session values.</p>
{% endif %}
</section>
<section id="sessions" aria-labelledby="h-sessions">
<h2 id="h-sessions">Sessions</h2>
<div class="table-wrap"><table class="cards">
<thead><tr><th scope="col">Session</th><th scope="col">Date</th><th scope="col">Activity</th><th scope="col" class="num">Minutes</th>{% for key in h.columns %}<th scope="col" class="num">{{ labels[key] }}</th>{% endfor %}</tr></thead>
<tbody>{% for s in h.sessions %}{% set i = loop.index0 %}<tr><td data-label="Session">{{ s.id }}</td><td data-label="Date">{{ s.date }}</td><td data-label="Activity">{{ s.activity }}</td><td class="num" data-label="Minutes">{{ field("sessions." ~ i ~ ".duration_min") }}</td>{% for key in h.columns %}<td class="num" data-label="{{ labels[key] }}">{{ field("sessions." ~ i ~ "." ~ key) }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
</section>
</main>
<footer>Generated {{ h.generated_at }} by Tiltguard. Sessions without an analysed report are not shown; run <code>tiltguard history --analyse</code> to add them.</footer>
</body>
</html>
"""
