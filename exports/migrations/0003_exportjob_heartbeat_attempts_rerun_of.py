import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exports', '0002_exportjob_format_choices_from_registry'),
    ]

    operations = [
        migrations.AddField(
            model_name='exportjob',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Build attempts so far; a stale or retried build starts again from scratch.'),
        ),
        migrations.AddField(
            model_name='exportjob',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Last sign of life of the running build, written after every chunk of rows.', null=True),
        ),
        migrations.AddField(
            model_name='exportjob',
            name='rerun_of',
            field=models.ForeignKey(blank=True, help_text='The job whose parameters this job repeats.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reruns', to='exports.exportjob'),
        ),
    ]
