"""Rules shared by every CSV and XLSX export (no Django imports)."""
