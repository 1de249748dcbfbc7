from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("")


agenda = pool = team_review = followup_create = followup_proposal = customer_pipeline_panel = _todo
claim = release = sign = lock = profile = keep = visit_plan_create = distribute = need_categories = _todo
