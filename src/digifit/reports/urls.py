from django.urls import path

from digifit.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.reports, name="list"),
    path("start", views.report_start, name="start"),
    path("<int:job_id>/status", views.report_status, name="status"),
    path("<int:job_id>/download", views.report_download, name="download"),
    path("margins/", views.margins, name="margins"),
]

analysis_patterns = (
    [
        path("", views.analysis, name="page"),
        path("results", views.analysis_results, name="results"),
        path("results.json", views.analysis_json, name="json"),
    ],
    "analysis",
)
