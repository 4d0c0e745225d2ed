"""Reports: the headline findings as tables of :mod:`digifit.stats` estimates, rendered as HTML, PDF and XLSX.

The library part (this package's plain modules) never imports Django: :mod:`.headline` computes,
:mod:`.render_html`, :mod:`.render_pdf`, :mod:`.render_xlsx` and :mod:`.charts` format. The web app's views,
models and templates for the analysis pages are added next to them and call the same functions.
"""
