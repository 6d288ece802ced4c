from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "openiop.jobs"
    label = "jobs"
