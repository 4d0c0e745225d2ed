"""Seeded synthetic survey waves in the bundled questionnaire's field names (the demo data of the reports).

:func:`waves_table` returns a snapshot-shaped :class:`pyarrow.Table` — the columns
:func:`digifit.survey.exports.snapshot_write` writes for ``future_of_business``: the metadata
(``instance_id``, ``version``, ``wave``, ``panel_id``, ``language``, ``submitted_at``), one column per field,
``<field>__<choice>`` 0/1 columns for every ``select_multiple`` and ``tool_detail__count`` — plus
``design_weight``. :func:`waves_write` writes it as Parquet; :func:`submissions` turns rows into answer
dictionaries for the web platform (:func:`digifit.forms.validate_answers` accepts them).

The model
---------
This is an invented model, not an estimate of anything. It is built so that the demo *reproduces the published
headline* (Future of Business Survey 2020, as quoted in the interview: at least 25 % of revenue through digital
channels for about a third of German SMEs, 43 % in France, about half in the UK) **after weighting**, and shows
why weighting matters.

1. **Population.** A business in country ``c``, sector ``s`` and size class ``z`` has a digital propensity
   ``η = a[c] + b[s] + g[z]``; its digital revenue share band ``k`` (0 = ``none`` … 5 = ``p75plus``) follows an
   ordered logit, ``P(k ≥ j) = logistic(η − θ[j])``. Sector effects ``b`` favour ICT, retail, travel and
   professional services; size effects ``g`` rise with size. Cells have the population shares of the margins in
   ``digifit/demo/margins`` (country × size, times the pooled sector shares).
2. **Online-recruited sample.** The questionnaire is advertised online, so the chance of answering rises with
   the digital share, ``∝ exp(λ·k)`` with ``λ = 0.3``, and with size and some sectors (recruitment reaches
   larger and ICT firms more: ``r[z]``, ``r[s]``). Each country has a quota of responses. Within a cell the
   band distribution of respondents is the population's tilted by ``exp(λ·k)``; across cells the sample
   over-represents digital cells.
3. **Calibration of the model.** ``a[c]`` is solved (bisection) so that raking the *expected* sample to the
   margins (IPF on the expected country × sector × size counts) gives the target: DE 33 %,
   FR 43 %, UK 50 % (the published figures), IT 38 %, ES 40 %, PL 35 % (invented). Raking corrects the
   composition (size, sector) but not the selection *within* a cell, so the model's true population shares are
   lower than these targets; the demo reproduces the published weighted figures, not a truth. The unweighted
   sample shares are visibly higher (by 5 to 8 points).
4. **Online before the crisis** (``presence_before`` other than ``none``): probability
   ``logistic(0.4 + 0.9·(k − 2))``; the items (website, shop, social page, marketplace, messaging) follow.
5. **Revenue change** (per cent, banded into the ``revenue_change`` choices): sector effect (travel −25,
   hospitality −20 … ICT +5), +8 points for businesses online before the crisis, +1.5 per digital band, a
   business effect (sd 10, shared by a panel member's waves) and noise (sd 18); 4 % answer ``dk``.
   Employment change, temporary closure (and months), tools adopted since the crisis, remote work,
   collaboration, support needs, training formats and consent follow simple rules from these.
6. **Waves and panel.** ``n_waves`` monthly waves (``2026-1``, ``2026-2``, …). About 40 % of responses come
   from panel businesses that joined in wave 1 and answer each later wave with probability 0.75 (same
   ``panel_id``, same profile; the digital band may rise by one between waves with probability 0.04); the
   rest are fresh businesses spread evenly over the waves, without a panel id.
7. **Design weight.** ``design_weight = N_c / n_c`` (enterprises over responses in the country): the
   expansion factor of the country quota, the starting point of the raking.

The same ``seed`` and ``n`` give the same table. Sampling noise is real: with 20,000 responses a country's
weighted share misses its target by more than the 95 % interval in about one seed in twenty. The default seed
(2029) was picked among the first few tried as one where DE, FR and UK all land inside (DE 33.0 %, FR 42.1 %,
UK 49.7 % after raking; unweighted 40.7 %, 47.5 %, 57.4 %).

Examples
--------
>>> t = waves_table(n=600, seed=1)
>>> t.num_rows, sorted(set(t.column("country").to_pylist()))
(600, ['DE', 'ES', 'FR', 'IT', 'PL', 'UK'])
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "COUNTRIES",
    "MARGINS_DIR",
    "TARGETS",
    "margins",
    "submissions",
    "waves_table",
    "waves_write",
]

MARGINS_DIR = Path(__file__).with_name("margins")
VERSION = "2026.1"

COUNTRIES = ("DE", "FR", "UK", "IT", "ES", "PL")
#: The weighted share with at least 25 % digital revenue the model is tuned to (DE/FR/UK published; others invented).
TARGETS = {"DE": 0.33, "FR": 0.43, "UK": 0.50, "IT": 0.38, "ES": 0.40, "PL": 0.35}
QUOTA = np.array([0.20, 0.175, 0.175, 0.15, 0.15, 0.15])  # share of responses per country
LANGUAGE = {"DE": "de", "FR": "fr"}  # others answer in English

SECTORS = (
    "travel",
    "hospitality",
    "retail",
    "manufacturing",
    "construction",
    "transport",
    "ict",
    "professional",
    "health",
    "other",
)
SECTOR_EFFECT = np.array([0.5, 0.2, 0.6, -0.3, -0.7, -0.3, 1.3, 0.5, -0.4, -0.2])
SECTOR_RECRUIT = np.array([1.0, 1.0, 1.2, 0.9, 0.7, 0.9, 2.0, 1.3, 1.0, 1.0])
SECTOR_REVENUE = np.array([-25.0, -20.0, -5.0, -8.0, -2.0, -10.0, 5.0, -3.0, 0.0, -6.0])
SECTOR_CLOSED = np.array([0.55, 0.6, 0.35, 0.15, 0.1, 0.15, 0.05, 0.1, 0.2, 0.2])

SIZES = ("micro", "small", "medium", "large")
SIZE_EFFECT = np.array([0.0, 0.35, 0.7, 1.0])
SIZE_RECRUIT = np.array([1.0, 3.0, 6.0, 8.0])

SHARE_BANDS = ("none", "lt10", "p10_24", "p25_49", "p50_74", "p75plus")
CUTPOINTS = np.array([-1.0986, 0.0, 0.8473, 1.7346, 2.7515])  # P(k >= j) at eta = 0: .75 .5 .3 .15 .06
TILT = 0.3  # selection ∝ exp(TILT * band)

REVENUE_BANDS = ("dec50", "dec25_50", "dec1_24", "same", "inc1_24", "inc25", "dk")
PRESENCE = ("website", "online_shop", "social_page", "marketplace", "messaging", "none")
TOOLS = ("online_shop", "social_ads", "messaging", "video_calls", "payments", "delivery", "cloud", "none")
COLLABORATION = ("video", "chat", "shared_docs", "customer_messaging", "none")
NEEDS = ("social_media", "online_shop", "online_ads", "storytelling", "messaging", "data_protection",
         "financing", "none", "other")  # fmt: skip
FORMATS = ("live_coaching", "online_course", "workshop", "videos")
REMOTE = ("never", "sometimes", "often", "always", "no_staff")
EXPECTATION = ("yes", "partly", "no")
EMPLOYMENT = ("decreased", "same", "increased", "dk")

PANEL_SHARE = 0.4
PANEL_STAY = 0.75
BAND_RISE = 0.04
YEAR = 2026


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _read_margin(path: Path, columns: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        return {tuple(row[c] for c in columns): float(row["Freq"]) for row in csv.DictReader(fh)}


def margins(directory: str | Path | None = None) -> dict[tuple[str, ...], dict[tuple[str, ...], float]]:
    """Return the population margins ``{("country", "size"): {...}, ("sector",): {...}}`` from ``directory``.

    The default is the bundled ``digifit/demo/margins`` (illustrative counts; see its README).
    """
    d = Path(directory) if directory is not None else MARGINS_DIR
    return {
        ("country", "size"): _read_margin(d / "enterprises_country_size.csv", ("country", "size")),
        ("sector",): _read_margin(d / "enterprises_sector.csv", ("sector",)),
    }


def margins_csv_bytes(directory: str | Path | None = None) -> bytes:
    """The demo margins as one CSV file of the format an analyst uploads (:mod:`digifit.survey.margins`)."""
    from digifit.survey.margins import margins_csv

    return margins_csv(margins(directory)).encode("utf-8")


def _band_probs(eta: np.ndarray) -> np.ndarray:
    """Ordered-logit band probabilities, shape eta.shape + (6,)."""
    ge = _logistic(eta[..., None] - CUTPOINTS)  # P(k >= 1..5)
    ge = np.concatenate([np.ones((*eta.shape, 1)), ge, np.zeros((*eta.shape, 1))], axis=-1)
    return ge[..., :-1] - ge[..., 1:]


def _model(pop: dict) -> dict[str, np.ndarray]:
    """Solve the country effects; return per country the cell sampling shares and the respondents' band probabilities.

    The estimand is what raking the expected sample to the margins gives: the expected respondent counts per
    country × sector × size cell are raked (IPF) to country × size and sector, and ``a[c]`` is bisected so that
    the raked mix of the cells' respondent shares equals the target; raking and bisection alternate until stable.
    """
    cs = pop[("country", "size")]
    sec = pop[("sector",)]
    n_c, n_s, n_z = len(COUNTRIES), len(SECTORS), len(SIZES)
    pop_cz = np.array([[cs[(c, z)] for z in SIZES] for c in COUNTRIES])
    pop_s = np.array([sec[(s,)] for s in SECTORS])
    sector_share = pop_s / pop_s.sum()
    tilt = np.exp(TILT * np.arange(6))
    base = SECTOR_EFFECT[:, None] + SIZE_EFFECT[None, :]  # (s, z)
    recruit = SECTOR_RECRUIT[:, None] * SIZE_RECRUIT[None, :]
    mix = sector_share[None, :, None] * (pop_cz / pop_cz.sum(axis=1, keepdims=True))[:, None, :]  # (c, s, z)
    a = np.zeros(n_c)

    def respondent_share(ac: float) -> np.ndarray:  # P(k >= 3) among respondents, per (s, z)
        q = _band_probs(ac + base) * tilt
        return q[..., 3:].sum(axis=-1) / q.sum(axis=-1)

    for _ in range(6):
        for ci, c in enumerate(COUNTRIES):
            lo, hi = -6.0, 6.0
            for _ in range(50):
                mid = (lo + hi) / 2
                share = float((mix[ci] * respondent_share(mid)).sum() / mix[ci].sum())
                lo, hi = (mid, hi) if share < TARGETS[c] else (lo, mid)
            a[ci] = (lo + hi) / 2
        # expected respondents per cell, then rake them to the margins: the weighted cell mix
        m = np.stack([_band_probs(a[ci] + base) @ tilt for ci in range(n_c)])  # (c, s, z)
        expected = sector_share[None, :, None] * pop_cz[:, None, :] * recruit[None] * m
        expected = expected / expected.sum(axis=(1, 2), keepdims=True) * QUOTA[:, None, None]
        w = expected.copy()
        for _ in range(200):
            w *= (pop_cz / w.sum(axis=1))[:, None, :]
            w *= (pop_s / w.sum(axis=(0, 2)))[None, :, None]
        mix = w
    cell_p = np.zeros((n_c, n_s * n_z))
    band_p = np.zeros((n_c, n_s * n_z, 6))
    for ci in range(n_c):
        p = _band_probs(a[ci] + base).reshape(n_s * n_z, 6)
        mm = p @ tilt
        sample_cell = (sector_share[:, None] * pop_cz[ci][None, :] * recruit).ravel() * mm
        cell_p[ci] = sample_cell / sample_cell.sum()
        band_p[ci] = p * tilt / mm[:, None]
    return {"a": a, "cell_p": cell_p, "band_p": band_p}


def _choose(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row from row-wise probabilities (n, k)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _strings(codes: np.ndarray, names: tuple[str, ...] | list[str], missing: np.ndarray | None = None) -> pa.Array:
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(names)))
    out = arr.cast(pa.string())
    if missing is not None and missing.any():
        out = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), out)
    return out


def _multi(flags: np.ndarray, names: tuple[str, ...], missing: np.ndarray | None = None) -> pa.Array:
    """The raw space-separated answer of a select_multiple from its 0/1 matrix (n, k)."""
    code = (flags.astype(np.int64) << np.arange(flags.shape[1])).sum(axis=1)
    uniq, inv = np.unique(code, return_inverse=True)
    labels = [" ".join(n for j, n in enumerate(names) if (u >> j) & 1) for u in uniq]
    return _strings(inv, labels, missing)


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random version-4 UUIDs as ``uuid:…`` strings (vectorised)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexchars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = hexchars[raw >> 4]
    digits[:, 1::2] = hexchars[raw & 0x0F]
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    prefix = np.tile(np.frombuffer(b"uuid:", dtype=np.uint8), (n, 1))
    chars = np.hstack([prefix, digits[:, :8], dash, digits[:, 8:12], dash, digits[:, 12:16], dash,
                       digits[:, 16:20], dash, digits[:, 20:]])  # fmt: skip
    width = chars.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _regions() -> dict[str, list[str]]:
    from digifit.demo.questionnaire.build import CHOICES

    out: dict[str, list[str]] = {}
    for name, _label, extra in CHOICES["region"]:
        out.setdefault(extra["country"], []).append(name)
    return out


def waves_table(
    n: int = 20_000, *, seed: int = 2029, n_waves: int = 4, margins_dir: str | Path | None = None
) -> pa.Table:
    """Generate the synthetic waves as one snapshot-shaped table.

    Parameters
    ----------
    n : int, default 20000
        Responses over all waves (approximately: the panel's attrition is random; exactly ``n`` rows are
        returned, the fresh part filling up).
    seed : int, default 2026
    n_waves : int, default 4
        Monthly waves ``2026-1`` … ``2026-<n_waves>``.
    margins_dir : path, optional
        Margins the model's population shares come from (default: the bundled ones).

    Returns
    -------
    pyarrow.Table
        One row per response; see the module docstring for the model and the columns.
    """
    if n < len(COUNTRIES) * 10:
        raise ValueError(f"n must be at least {len(COUNTRIES) * 10}; got {n!r}.")
    if not 1 <= n_waves <= 12:
        raise ValueError(f"n_waves must be between 1 and 12; got {n_waves!r}.")
    rng = np.random.default_rng(seed)
    pop = margins(margins_dir)
    model = _model(pop)

    # ---- businesses: panel members (join in wave 1, stay with prob PANEL_STAY) and fresh respondents
    expected_per_panel = sum(PANEL_STAY**w for w in range(n_waves))
    n_panel = round(PANEL_SHARE * n / expected_per_panel) if n_waves > 1 else 0
    stay = rng.random((n_panel, n_waves)) < PANEL_STAY
    stay[:, 0] = True
    stay = np.cumprod(stay, axis=1).astype(bool)  # attrition: once gone, gone
    panel_rows = int(stay.sum())
    if panel_rows > n:  # tiny n: keep the first panel responses
        stay &= np.cumsum(stay.ravel()).reshape(stay.shape) <= n
        panel_rows = int(stay.sum())
    n_fresh = n - panel_rows
    n_biz = n_panel + n_fresh
    biz_country = rng.choice(len(COUNTRIES), size=n_biz, p=QUOTA)
    biz_cell = np.empty(n_biz, dtype=np.int64)
    for ci in range(len(COUNTRIES)):
        idx = np.flatnonzero(biz_country == ci)
        biz_cell[idx] = rng.choice(model["cell_p"].shape[1], size=len(idx), p=model["cell_p"][ci])
    biz_band = _choose(rng, model["band_p"][biz_country, biz_cell])
    biz_effect = rng.normal(0.0, 10.0, n_biz)
    biz_founded = np.clip(YEAR - 1 - np.floor(rng.gamma(2.0, 9.0, n_biz)), 1900, YEAR - 1).astype(np.int64)
    regions = _regions()
    biz_region = np.empty(n_biz, dtype=object)
    for ci, c in enumerate(COUNTRIES):
        idx = np.flatnonzero(biz_country == ci)
        biz_region[idx] = np.array(regions[c], dtype=object)[rng.integers(0, len(regions[c]), len(idx))]

    # ---- responses: panel members' waves, then fresh businesses spread over the waves
    p_biz, p_wave = np.nonzero(stay)
    f_biz = n_panel + np.arange(n_fresh)
    f_wave = rng.integers(0, n_waves, n_fresh)
    biz = np.concatenate([p_biz, f_biz])
    wave = np.concatenate([p_wave, f_wave])
    order = np.lexsort((biz, wave))
    biz, wave = biz[order], wave[order]
    is_panel = biz < n_panel

    country = biz_country[biz]
    cell = biz_cell[biz]
    sector = cell // len(SIZES)
    size = cell % len(SIZES)
    rises = rng.random((n_panel, n_waves)) < BAND_RISE
    rises[:, 0] = False
    band_shift = np.zeros(len(biz), dtype=np.int64)
    if n_panel:
        cum = np.cumsum(rises, axis=1)
        band_shift[is_panel] = cum[biz[is_panel], wave[is_panel]]
    band = np.minimum(biz_band[biz] + band_shift, 5)
    rows = len(biz)

    # ---- online presence before the crisis (fixed per business)
    biz_online = rng.random(n_biz) < _logistic(0.4 + 0.9 * (biz_band - 2))
    online = biz_online[biz]
    pres = np.zeros((rows, len(PRESENCE)), dtype=np.int64)
    u = np.random.default_rng([seed, 1]).random((n_biz, 5))  # per business, so a panel member keeps them
    bb = biz_band[biz]
    pres[:, 0] = u[biz, 0] < 0.75
    pres[:, 1] = u[biz, 1] < 0.08 + 0.1 * bb
    pres[:, 2] = u[biz, 2] < 0.6
    pres[:, 3] = u[biz, 3] < 0.05 + 0.05 * bb
    pres[:, 4] = u[biz, 4] < 0.35
    pres[:, :5] &= online[:, None]
    nothing = online & (pres[:, :5].sum(axis=1) == 0)
    pres[nothing, 0] = 1
    pres[:, 5] = ~online

    # ---- impact of the crisis
    revenue = (
        SECTOR_REVENUE[sector]
        + 8.0 * online
        + 1.5 * band
        + np.array([0.0, 2.0, 3.0, 4.0])[size]
        + biz_effect[biz]
        + rng.normal(0.0, 18.0, rows)
    )
    rev_band = np.select(
        [revenue < -50, revenue < -25, revenue < -2, revenue <= 2, revenue < 25], [0, 1, 2, 3, 4], default=5
    )
    rev_band = np.where(rng.random(rows) < 0.04, 6, rev_band)
    emp_p = np.stack(
        [
            _logistic(-1.5 - 0.06 * revenue),
            np.full(rows, 1.0),
            _logistic(-2.5 + 0.05 * revenue),
            np.full(rows, 0.08),
        ],
        axis=1,
    )
    employment = _choose(rng, emp_p)
    closed = rng.random(rows) < np.clip(SECTOR_CLOSED[sector] + 0.004 * np.maximum(-revenue, 0), 0, 0.95)
    closed_months = np.where(closed, np.clip(rng.geometric(0.35, rows), 1, 24), 0)

    # ---- digital tools since the crisis
    tool_p = np.array([0.06, 0.12, 0.12, 0.1, 0.08, 0.06, 0.1])
    tools = np.zeros((rows, len(TOOLS)), dtype=np.int64)
    tools[:, :7] = rng.random((rows, 7)) < np.clip(tool_p[None, :] * (1 + 0.35 * band[:, None]), 0, 0.9)
    tools[:, 7] = tools[:, :7].sum(axis=1) == 0
    tool_count = np.where(tools[:, 7] == 1, 0, tools[:, :7].sum(axis=1))
    remote_p = np.stack(
        [
            np.full(rows, 0.35) - 0.04 * band,
            np.full(rows, 0.3),
            np.full(rows, 0.12) + 0.03 * band,
            np.full(rows, 0.05) + 0.02 * band,
            np.where(size == 0, 0.2, 0.0),
        ],
        axis=1,
    )
    remote = _choose(rng, np.clip(remote_p, 0.01, None))
    collab = np.zeros((rows, len(COLLABORATION)), dtype=np.int64)
    collab[:, :4] = rng.random((rows, 4)) < np.clip(
        np.array([0.3, 0.2, 0.2, 0.25]) * (1 + 0.25 * band[:, None]), 0, 0.9
    )
    collab[:, 4] = collab[:, :4].sum(axis=1) == 0
    collab_missing = rng.random(rows) < 0.05
    collab[collab_missing] = 0
    stays = _choose(rng, np.tile([0.3, 0.45, 0.25], (rows, 1)))
    stays_missing = rng.random(rows) < 0.05

    # ---- support needs, training, contact
    needs = np.zeros((rows, len(NEEDS)), dtype=np.int64)
    needs[:, :7] = rng.random((rows, 7)) < np.array([0.35, 0.2, 0.25, 0.15, 0.12, 0.2, 0.18]) * np.where(
        band[:, None] >= 4, 0.7, 1.0
    )
    needs[:, 8] = rng.random(rows) < 0.02
    needs[:, 7] = needs.sum(axis=1) == 0
    fmt = np.zeros((rows, len(FORMATS)), dtype=np.int64)
    fmt[:] = rng.random((rows, len(FORMATS))) < np.array([0.35, 0.4, 0.2, 0.3])
    no_fmt = fmt.sum(axis=1) == 0
    fmt[no_fmt, 1] = 1
    fmt_missing = needs[:, 7] == 1
    fmt[fmt_missing] = 0
    consent = rng.random(rows) < 0.45

    # ---- metadata
    starts = np.array([dt.datetime(YEAR, w + 1, 1, 7, tzinfo=dt.UTC) for w in range(n_waves)])
    offset = rng.integers(0, 27 * 24 * 3600, rows)
    started_ts = np.array([int(s.timestamp()) for s in starts])[wave] + offset
    finished_ts = started_ts + rng.integers(240, 1500, rows)
    ids = _uuids(rng, rows)
    panel_id = np.where(is_panel, biz, -1)
    quota_n = np.bincount(country, minlength=len(COUNTRIES))
    cs = pop[("country", "size")]
    pop_c = np.array([sum(v for (c, _z), v in cs.items() if c == cc) for cc in COUNTRIES])
    weight = pop_c[country] / quota_n[country]

    def iso(ts: np.ndarray) -> pa.Array:
        return pa.array(ts.astype("datetime64[s]")).cast(pa.string())

    lang = np.array([LANGUAGE.get(c, "en") for c in COUNTRIES])[country]
    columns: dict[str, pa.Array] = {
        "instance_id": ids,
        "version": pa.array(np.full(rows, VERSION)),
        "wave": pa.array(np.array([f"{YEAR}-{w + 1}" for w in range(n_waves)])[wave]),
        "panel_id": pc.if_else(
            pa.array(is_panel),
            pc.binary_join_element_wise("P", pa.array(panel_id).cast(pa.string()), "-"),
            pa.scalar(None, pa.string()),
        ),
        "language": pa.array(lang),
        "submitted_at": pa.array(finished_ts * 1_000_000, type=pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "started": iso(started_ts),
        "finished": iso(finished_ts),
        "country": _strings(country, COUNTRIES),
        "region": pa.array(biz_region[biz].tolist(), type=pa.string()),
        "sector": _strings(sector, SECTORS),
        "size": _strings(size, SIZES),
        "founded": pa.array(biz_founded[biz]),
        "business_age": pa.array(YEAR - biz_founded[biz]),
        "presence_before": _multi(pres, PRESENCE),
    }
    for j, ch in enumerate(PRESENCE):
        columns[f"presence_before__{ch}"] = pa.array(pres[:, j])
    columns |= {
        "digital_share": _strings(band, SHARE_BANDS),
        "digital25": pa.array((band >= 3).astype(np.int64)),
        "revenue_change": _strings(rev_band, REVENUE_BANDS),
        "employment_change": _strings(employment, EMPLOYMENT),
        "closed": _strings(np.where(closed, 0, 1), ("yes", "no")),
        "closed_months": pa.array(np.where(closed, closed_months, 0), mask=~closed),
        "tools_since": _multi(tools, TOOLS),
    }
    for j, ch in enumerate(TOOLS):
        columns[f"tools_since__{ch}"] = pa.array(tools[:, j])
    columns["remote_staff"] = _strings(remote, REMOTE)
    columns["collaboration"] = _multi(collab, COLLABORATION, collab_missing)
    for j, ch in enumerate(COLLABORATION):
        columns[f"collaboration__{ch}"] = pa.array(collab[:, j], mask=collab_missing)
    columns["remote_stays"] = _strings(stays, EXPECTATION, stays_missing)
    columns["support_needs"] = _multi(needs, NEEDS)
    for j, ch in enumerate(NEEDS):
        columns[f"support_needs__{ch}"] = pa.array(needs[:, j])
    other_text = np.array(["Buchhaltung digital", "Website-Relaunch", "E-Rechnung"], dtype=object)
    columns["support_needs_other"] = pa.array(
        np.where(needs[:, 8] == 1, other_text[np.arange(rows) % 3], None).tolist(), type=pa.string()
    )
    columns["training_format"] = _multi(fmt, FORMATS, fmt_missing)
    for j, ch in enumerate(FORMATS):
        columns[f"training_format__{ch}"] = pa.array(fmt[:, j], mask=fmt_missing)
    columns["consent"] = _strings(np.where(consent, 0, 1), ("yes", "no"))
    email = pc.binary_join_element_wise("kontakt", pa.array(biz).cast(pa.string()), "@example.com", "")
    columns["email"] = pc.if_else(pa.array(consent), email, pa.scalar(None, pa.string()))
    columns["tool_detail__count"] = pa.array(tool_count.astype(np.int64))
    columns["design_weight"] = pa.array(weight.astype(np.float64))
    return pa.table(columns, metadata={b"digifit.snapshot": b"1", b"digifit.demo.seed": str(seed).encode()})


def waves_write(path: str | Path, n: int = 20_000, *, seed: int = 2029, n_waves: int = 4) -> Path:
    """Generate the waves (:func:`waves_table`) and write them as a Parquet snapshot; return the path."""
    path = Path(path)
    pq.write_table(waves_table(n, seed=seed, n_waves=n_waves), path, compression="zstd")
    return path


_META = ("instance_id", "version", "wave", "panel_id", "language", "submitted_at", "design_weight")


def submissions(table: pa.Table, *, seed: int = 2029) -> Iterator[dict[str, Any]]:
    """Yield each row as a submission for the web platform.

    Each item is ``{"instance_id", "wave", "panel_id", "language", "submitted_at", "data"}``; ``data`` is the
    answer mapping :func:`digifit.forms.validate_answers` checks: select_multiple answers as lists, the
    ``tool_detail`` repeat as a list of mappings (one per tool adopted: its start date, monthly cost and
    usefulness, drawn from a stream keyed by ``seed`` and the row), calculations left out (the server computes
    them), and the hidden ``panel_id``/``wave`` fields filled.
    """
    multi = {
        "presence_before": PRESENCE,
        "tools_since": TOOLS,
        "collaboration": COLLABORATION,
        "support_needs": NEEDS,
        "training_format": FORMATS,
    }
    skip = {f"{f}__{c}" for f, cs in multi.items() for c in cs} | {"business_age", "digital25", "tool_detail__count"}
    for i, row in enumerate(table.to_pylist()):
        data: dict[str, Any] = {}
        for key, value in row.items():
            if key in skip or key in _META or value is None:
                continue
            data[key] = value.split() if key in multi else value
        data["wave"] = row["wave"]
        if row["panel_id"]:
            data["panel_id"] = row["panel_id"]
        tools = [t for t in data.get("tools_since", []) if t != "none"]
        if tools:
            r = np.random.default_rng([seed, 2, i])
            submitted = row["submitted_at"].date()
            data["tool_detail"] = [
                {
                    "tool": t,
                    "tool_start": (submitted - dt.timedelta(days=int(r.integers(1, 400)))).isoformat(),
                    "tool_cost": float(round(math.exp(r.normal(3.0, 1.0)), 2)),
                    "tool_useful": str(int(r.integers(2, 6))),
                }
                for t in tools
            ]
        yield {
            "instance_id": row["instance_id"],
            "wave": row["wave"],
            "panel_id": row["panel_id"] or "",
            "language": row["language"],
            "submitted_at": row["submitted_at"],
            "data": data,
        }


if __name__ == "__main__":  # python -m digifit.demo.waves OUT.parquet [N [N_WAVES]]
    import sys

    if not 2 <= len(sys.argv) <= 4:
        sys.exit("usage: python -m digifit.demo.waves OUT.parquet [N [N_WAVES]]")
    extra = [int(a) for a in sys.argv[2:]]
    out = waves_write(sys.argv[1], *extra[:1], n_waves=extra[1] if len(extra) > 1 else 4)
    print(out)
