"""URLs: the API, OpenRosa, the admin (DIGIFIT_ADMIN_PATH), the manager pages, language switching."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from digifit.assessment.api import router as checks_router
from digifit.reports import views as reports_views
from digifit.reports.urls import analysis_patterns
from digifit.survey.api import api
from digifit.web.front import front
from digifit.web.home import home
from digifit.web.mailbox import mailbox
from digifit.web.site_pages import imprint, privacy, site_page_edit
from digifit.web.staff import staff_page, staff_welcome

handler400 = "digifit.web.request_limits.bad_request"  # 413 for a body over a limit, never a bare 400 page

# The Digital-Check's API lives with the assessment app, above the survey in the layers: mounted here, where
# both are known, not imported by the survey's API module.
api.add_router("/checks", checks_router)

urlpatterns = [
    path("api/", api.urls),
    path("openrosa/", include("digifit.survey.openrosa")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("programme/", include("digifit.programme.urls")),
    path("check/", include("digifit.assessment.urls")),
    path("learning/", include("digifit.learning.urls")),
    path("analysis/", include(analysis_patterns)),
    path("reports/", include("digifit.reports.urls")),
    path("dashboard/", reports_views.dashboard, name="dashboard"),
    path("staff/", staff_page, name="staff"),  # user administrators: staff accounts and roles
    path("staff/welcome/<str:uidb64>/<str:token>/", staff_welcome, name="staff_welcome"),  # the invitee's link
    path("home/", home, name="home"),  # the start page of the user's role (digifit.web.home)
    path("demo/mail/", mailbox, name="demo_mailbox"),  # only with DIGIFIT_DEMO_MAILBOX (digifit demo); else 404
    path("imprint/", imprint, name="imprint"),  # public; the text is the organisation's (digifit.web.site_pages)
    path("privacy/", privacy, name="privacy"),
    path("site/pages/<str:page>/", site_page_edit, name="site_page_edit"),  # organisers and user administrators
    path("", front, name="front"),  # the public front door (digifit.web.front)
    path("", include("digifit.survey.urls")),
]
# The admin at a configurable path (DIGIFIT_ADMIN_PATH, default manage/), or not at all.
if settings.DIGIFIT_ADMIN_PATH:
    urlpatterns.insert(2, path(settings.DIGIFIT_ADMIN_PATH, admin.site.urls))
