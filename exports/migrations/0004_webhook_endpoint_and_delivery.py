import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exports', '0003_exportjob_heartbeat_attempts_rerun_of'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.URLField(max_length=2000, validators=[django.core.validators.URLValidator(message='Enter an http:// or https:// URL.', schemes=['http', 'https'])], verbose_name='URL')),
                ('secret', models.CharField(help_text='Key of the HMAC-SHA256 signature on every delivery.', max_length=128)),
                ('events', models.JSONField(default=list, help_text='Event types to send, e.g. ["export.succeeded"].')),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.UUIDField(db_index=True, help_text='Identifier of the event, the same on every attempt, so receivers can deduplicate.')),
                ('event', models.CharField(choices=[('export.succeeded', 'Export succeeded'), ('export.failed', 'Export failed')], max_length=32)),
                ('payload', models.JSONField(help_text='The JSON body that was sent.')),
                ('attempt', models.PositiveSmallIntegerField(help_text='1 for the first attempt, counting up with each retry.')),
                ('succeeded', models.BooleanField(default=False)),
                ('status_code', models.PositiveSmallIntegerField(blank=True, help_text='HTTP status of the response.', null=True)),
                ('response_ms', models.PositiveIntegerField(blank=True, help_text='Milliseconds from sending the request to reading the response or failing.', null=True, verbose_name='response time (ms)')),
                ('error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='webhook_deliveries', to='exports.exportjob')),
                ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='exports.webhookendpoint')),
            ],
            options={
                'verbose_name_plural': 'webhook deliveries',
                'ordering': ['-created_at', '-id'],
            },
        ),
    ]
