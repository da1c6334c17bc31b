export interface SettingsTable {
  key: string;
  value: string;
}

export interface SettingsTables {
  settings: SettingsTable;
}
