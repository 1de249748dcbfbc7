"""The statutory calendar is the administrator's to correct and to complete for a new year."""

from django.contrib import admin
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from yixiang.pipeline.models import HolidayDay


@admin.register(HolidayDay)
class HolidayDayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)
    ordering = ("date",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj: HolidayDay) -> str:
        return date_format(obj.date, "l")
