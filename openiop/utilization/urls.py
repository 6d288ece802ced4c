from openiop.utilization.packet_urls import urlpatterns as packet_urlpatterns

app_name = "utilization"

urlpatterns = [*packet_urlpatterns]
