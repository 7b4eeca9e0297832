defmodule Shorty.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      Shorty.Store,
      {Plug.Cowboy, scheme: :http, plug: Shorty.Router, options: [port: port()]}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Shorty.Supervisor)
  end

  # The HTTP port, from the PORT environment variable or 4000.
  defp port do
    "PORT" |> System.get_env("4000") |> String.to_integer()
  end
end
