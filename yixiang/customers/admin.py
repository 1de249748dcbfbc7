"""Customers are managed in the app (scoped, audited); the back office only curates tags."""

from django.contrib import admin

from yixiang.customers.models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
