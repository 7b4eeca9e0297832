defmodule Shorty.MixProject do
  use Mix.Project

  def project do
    [
      app: :shorty,
      version: "0.1.0",
      elixir: "~> 1.15",
      deps: deps()
    ]
  end

  # Starts the link store under the application's supervisor.
  def application do
    [mod: {Shorty.Application, []}, extra_applications: [:logger]]
  end

  defp deps do
    [{:plug_cowboy, "~> 2.6"}, {:jason, "~> 1.4"}]
  end
end
