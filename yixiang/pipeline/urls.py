from django.urls import path

from yixiang.pipeline import holiday_views, lead_views, views

urlpatterns = [
    path("agenda/", views.agenda, name="agenda"),
    path("pool/", views.pool, name="pool"),
    path("team/review/", views.team_review, name="team_review"),
    path("team/review/<int:rep_id>/mismatches/", lead_views.judgment_mismatches, name="judgment_mismatches"),
    path("team/recycle-proposals/", lead_views.recycle_proposals, name="recycle_proposals"),
    path("customers/<int:pk>/recycle-decision/", lead_views.recycle_decide, name="recycle_decide"),
    path("customers/<int:pk>/follow-up/", views.followup_create, name="followup_create"),
    path("customers/<int:pk>/follow-up/inline/", views.agenda_log, name="agenda_log"),
    path("customers/<int:pk>/follow-up/proposal/", views.followup_proposal, name="followup_proposal"),
    path("customers/<int:pk>/pipeline/panel/", views.customer_pipeline_panel, name="customer_pipeline_panel"),
    path(
        "customers/<int:pk>/pipeline/history/<str:kind>/",
        views.customer_pipeline_history,
        name="customer_pipeline_history",
    ),
    path("customers/<int:pk>/claim/", views.claim, name="pipeline_claim"),
    path("customers/<int:pk>/release/", views.release, name="pipeline_release"),
    path("customers/<int:pk>/sign/", views.sign, name="pipeline_sign"),
    path("customers/<int:pk>/lock/", views.lock, name="pipeline_lock"),
    path("customers/<int:pk>/profile/", views.profile, name="pipeline_profile"),
    path("customers/<int:pk>/keep/", views.keep, name="pipeline_keep"),
    path("customers/<int:pk>/hand-over/", views.hand_over, name="pipeline_hand_over"),
    path("customers/<int:pk>/visit-plan/", views.visit_plan_create, name="visit_plan_create"),
    path("distribute/", views.distribute, name="distribute"),
    path("need-categories/", views.need_categories, name="need_categories"),
    path("holidays/", holiday_views.holiday_calendar, name="holiday_calendar"),
]
