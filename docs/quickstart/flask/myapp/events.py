from telegraphy.contrib.flask_telegraphy import BaseEventModel

from .models import MyModel


class MyModelEvents(BaseEventModel):
    model = MyModel  # its events are named "myapp.MyModel": "<package>.<ModelName>"
    public = True  # anonymous visitors may see them too


def register_events():
    MyModelEvents().register()
