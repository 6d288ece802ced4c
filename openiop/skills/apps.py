from django.apps import AppConfig


class SkillsConfig(AppConfig):
    name = "openiop.skills"
    label = "skills"
