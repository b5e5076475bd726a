from telegraphy.contrib.django_telegraphy.events import BaseEventModel

from .models import MyModel


class MyModelEvents(BaseEventModel):
    model = MyModel  # its events are named "myapp.MyModel": "<app_label>.<ModelName>"
    public = True  # anonymous visitors may see them too
