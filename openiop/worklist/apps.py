from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "openiop.worklist"
    label = "worklist"
