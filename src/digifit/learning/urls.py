from django.urls import path

from digifit.learning import views

app_name = "learning"
urlpatterns = [
    path("", views.course_list, name="courses"),
    path("statistics/", views.statistics, name="statistics"),
    path("courses/<slug:course>/", views.course_detail, name="course"),
    path("courses/<slug:course>/lessons/<int:lesson_id>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:course>/certificate.pdf", views.certificate_pdf, name="certificate"),
    path("certificates/", views.certificate_check, name="certificate_check"),
    path("certificates/<str:token>/", views.certificate_verify, name="certificate_verify"),
]
