"""The province's digital-economy dashboard and reports: KPIs from aggregate SQL, scoped to
who is asking; server-side SVG charts; XLSX/CSV exports; JSON under ``/api/v1/reports``."""
