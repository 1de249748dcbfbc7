"""Import and export pages. Thin: importing/exporting do the work, scoping decides who may."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from yixiang.accounts.models import User
from yixiang.accounts.scoping import staff_in_scope
from yixiang.customers import exporting, import_template, importing, tasks, uploads
from yixiang.customers.models import ImportJob
from yixiang.errors import DomainError

POOL = "pool"


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("CSV (UTF-8 or GBK, as Excel saves it) or an .xlsx workbook."))
    owner = forms.ChoiceField(label=_("Owner of the imported customers"), required=False)
    dry_run = forms.BooleanField(
        label=_("Check the file first (dry run: nothing is saved)"), required=False, initial=True
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        choices = [(str(user.pk), user.label)]
        choices += [(str(u.pk), u.label) for u in staff_in_scope(user).exclude(pk=user.pk).order_by("username")]
        if user.is_admin_role:
            choices.append((POOL, _("Public pool (no owner)")))
        self.fields["owner"].choices = choices
        self.fields["owner"].initial = str(user.pk)
        self.fields["file"].widget.attrs["accept"] = ".csv,.xlsx,.txt,text/csv"
        if len(choices) == 1:
            self.fields["owner"].widget = forms.HiddenInput()

    def chosen_owner(self) -> User | None:
        value = self.cleaned_data.get("owner") or str(self.user.pk)
        if value == POOL:
            return None
        return staff_in_scope(self.user).filter(pk=value).first() or self.user


def _job(request: HttpRequest, pk: int) -> ImportJob:
    """An import job is its importer's: anyone else gets the same 404 as for a missing one."""
    job = ImportJob.objects.select_related("owner").filter(pk=pk, created_by=request.user).first()
    if job is None:
        raise Http404("import job not found")
    return job


def _start(job: ImportJob, size: int) -> None:
    """Small files are checked inside the request; big ones go to the worker and the page polls."""
    language = translation.get_language()
    if size <= importing.conf("IMPORT_INLINE_MAX_BYTES"):
        importing.run_import_job(job, language=language)
    else:
        tasks.run_import(job.pk, language)


@login_required
def customer_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            owner = form.chosen_owner()
            importing.check_import_owner(request.user, owner)
            name = importing.store_upload(upload.chunks(), upload.name)
            job = importing.create_import_job(
                actor=request.user,
                owner=owner,
                file_path=name,
                file_name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            _start(job, upload.size)
            return redirect("customer_import_job", pk=job.pk)
    recent = ImportJob.objects.filter(created_by=request.user).select_related("owner")[:10]
    columns = [(c.zh, c.en) for c in importing.COLUMNS]
    return render(request, "customers/io/import.html", {"form": form, "recent": recent, "columns": columns})


@login_required
@require_GET
def customer_import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    """The template to fill in (导入模板): .xlsx with a sheet of explanations, or CSV."""
    if fmt not in import_template.FORMATS:
        raise Http404("no such template")
    response = HttpResponse(
        import_template.build_template(fmt, user=request.user), content_type=import_template.FORMATS[fmt]
    )
    response["Content-Disposition"] = import_template.content_disposition(fmt)
    return response


@login_required
def customer_import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's progress and report. htmx polls it while the job runs."""
    job = _job(request, pk)
    context = {"job": job, **_report(job)}
    partial = request.headers.get("HX-Request") == "true"
    response = render(request, "customers/io/_job.html" if partial else "customers/io/job.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _report(job: ImportJob) -> dict:
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    total = max(job.total_rows, job.processed_rows, 1)
    context = {
        "running": not finished,
        "percent": 100 if finished else min(int(100 * job.processed_rows / total), 99),
        "errors": importing.job_entries(job, "error"),
        "duplicates": importing.job_entries(job, "duplicate"),
        "warnings": importing.job_entries(job, "warning"),
        "errors_left_out": importing.job_entries_left_out(job, "error"),
        "duplicates_left_out": importing.job_entries_left_out(job, "duplicate"),
        "preview": None,
        "may_import": job.dry_run and job.status == ImportJob.Status.DONE and job.created_count > 0,
        "real_import": importing.real_import_of(job) if job.dry_run else None,
    }
    if context["real_import"] is not None:
        context["may_import"] = False
    if context["may_import"]:
        # Stored by the dry run: reading the file here cost a web worker seconds and a gigabyte per view.
        context["preview"] = importing.stored_preview(job)
        context["may_import"] = uploads.exists(job.file_path)  # removed after a day: upload again
    return context


@login_required
@require_POST
def customer_import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """The real import of a file that went through a dry run."""
    dry = _job(request, pk)
    started = importing.real_import_of(dry)
    if started is not None:  # a second click: show the import already made
        return redirect("customer_import_job", pk=started.pk)
    try:
        job = importing.job_for_real_import(actor=request.user, dry_run_job=dry)
    except DomainError:
        return redirect("customer_import_job", pk=dry.pk)
    _start(job, uploads.size_of(job.file_path))
    return redirect("customer_import_job", pk=job.pk)


@login_required
@require_GET
def customer_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    try:
        export = exporting.export_customers(
            user=request.user, filters=exporting.filters_from_query(request.GET), fmt=fmt
        )
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    return exporting.file_response(export)
