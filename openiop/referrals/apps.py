from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "openiop.referrals"
    label = "referrals"
